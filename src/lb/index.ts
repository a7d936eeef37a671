// `pacer lb`: a load balancer in marathon-lb's model that follows a Pacer master (README.md).
export { startBalancer, type Balancer, type BalancerOptions } from './balancer.js';
export type { MasterConnection } from './master-client.js';
export { hostOf } from './host-header.js';
export { buildRouteTable, type AppRoute, type Backend, type RouteTable } from './route-table.js';
export { parseAppsAnswer, type AppSnapshot } from './app-snapshot.js';
