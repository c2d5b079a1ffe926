// routebind: strong end-system behaviour for Node on multi-homed hosts.
export { routeTo, routes } from './route';
export type { Route, RouteEntry, RouteQuery, RoutesOptions, Nexthop } from './route';
export { interfaces } from './interfaces';
export type { NetworkInterface, InterfaceAddress } from './interfaces';
export type { SystemError } from './errors';
export { connect, createConnection, createSocket, createServer, describe } from './sockets';
export type { ConnectOptions, SocketOptions, BindOptions, ListenOptions, SocketDescription, RoutingOptions } from './sockets';
export { clearRouteCache, configureRouteCache, routeCacheStats } from './route';
export type { RouteCacheOptions } from './route';
export { watch, RouteWatcher } from './watch';
export type { WatchOptions, ChangeEvent, RouteChangeEvent, AddressChangeEvent, LinkChangeEvent, ResyncEvent, ChangeAction } from './watch';
export type { RouteChange, RouteChangeMode } from './follow';
export { Agent, HttpsAgent, connector } from './agent';
export type { AgentOptions, HttpsAgentOptions, ConnectorOptions, Connector, ConnectParams, ConnectCallback, Destination, Policy, PolicyAnswer, RoutedOptions } from './agent';
export { doctor } from './doctor';
export type { DoctorReport, DoctorFinding, DoctorFindingId, DoctorLookup, DoctorUplink } from './doctor';
