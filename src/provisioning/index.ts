/**
 * Provisioning for tests, benchmarks and simulators: a gateway on free ports in a temporary
 * data dir, a JSON client of its API, and valid credit codes for the enterprises they register.
 */
export { createApiClient, type ApiClient } from './api-client.js';
export { buildCreditCode } from './credit-code.js';
export { startLocalGateway } from './local-gateway.js';
