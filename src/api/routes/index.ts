import type { Config } from '../../config.js';
import type { RouteSpec } from '../route.js';
import { clusterRoutes, type ClusterRouteDeps } from './cluster.js';
import { edgeNodeRoutes, type EdgeRouteDeps } from './edge-nodes.js';
import { metaRoutes, type MetaRouteDeps } from './meta.js';
import { overviewRoutes, type OverviewRouteDeps } from './overview.js';
import { redemptionRoutes } from './redemption.js';
import { registryRoutes, type RegistryRouteDeps } from './registry.js';
import { rulesRoutes } from './rules.js';
import { trustRoutes, type TrustRouteDeps } from './trust.js';
import { verificationRoutes, type VerificationRouteDeps } from './verification.js';

/** Everything the routes need, wired once in src/gateway.ts. */
export type ApiDeps = MetaRouteDeps &
  EdgeRouteDeps &
  OverviewRouteDeps &
  RegistryRouteDeps &
  VerificationRouteDeps &
  TrustRouteDeps &
  ClusterRouteDeps & { config: Readonly<Config> };

/** Every route of the v1 API; the OpenAPI document is generated from this list. */
export const allRoutes: readonly RouteSpec<any, any, any, ApiDeps>[] = [
  ...metaRoutes,
  ...rulesRoutes,
  ...verificationRoutes,
  ...overviewRoutes,
  ...redemptionRoutes,
  ...registryRoutes,
  ...trustRoutes,
  ...edgeNodeRoutes,
  ...clusterRoutes,
];
