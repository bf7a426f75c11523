// Values the integration globalSetup hands to tests (vitest provide/inject).
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the shared influxd (global-setup.ts fails the run without one). */
    influxUrl: string;
  }
}
