// routebind: strong end-system behaviour for Node on multi-homed hosts.
// The emitted index.d.ts keeps this reference, so a consumer gets Node's types (Buffer,
// node:net, …) from its own @types/node without listing them in `types` (TypeScript 6+ lists none).
/// <reference types="node" preserve="true" />
export { routeTo, routes } from './route';
export type { Route, RouteEntry, RouteQuery, RoutesOptions, Nexthop } from './route';
export { interfaces } from './interfaces';
export type { NetworkInterface, InterfaceAddress } from './interfaces';
export type { SystemError } from './errors';
export { connect, createConnection } from './tcp-client';
export type { ConnectOptions, RoutedSocket } from './tcp-client';
export { createSocket } from './dgram';
export type { SocketOptions, BindOptions, UdpSocket, RoutedBind, RoutedServer, RoutedRemoteInfo } from './dgram';
export { createServer } from './server';
export type { ServerOptions, ListenOptions, TcpServer, RoutedListen } from './server';
export { describe } from './describe';
export type { SocketDescription } from './describe';
export type { RoutingOptions } from './decide';
export { clearRouteCache, configureRouteCache, routeCacheStats } from './route';
export type { RouteCacheOptions } from './route';
export { watch, RouteWatcher } from './watch';
export type { WatchOptions, ChangeEvent, RouteChangeEvent, AddressChangeEvent, LinkChangeEvent, ResyncEvent, ChangeAction } from './watch';
export type { RouteChange, RouteChangeMode, RouteChangeEvents } from './follow';
export { Agent, HttpsAgent, connector } from './agent';
export type { AgentOptions, HttpsAgentOptions, ConnectorOptions, Connector, ConnectParams, ConnectCallback, Destination, Policy, PolicyAnswer, RoutedOptions } from './agent';
export { doctor } from './doctor';
export type { DoctorReport, DoctorFinding, DoctorFindingId, DoctorLookup, DoctorUplink } from './doctor';
export { BACKENDS as supportedPlatforms, OPTION_PLATFORMS as optionPlatforms } from './platform';
export type { PlatformError, UnsupportedOptionError, RoutebindOption, Backend } from './platform';
