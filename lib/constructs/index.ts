/** Ferry's CDK construct library. */
export * from './ferry';
export { ObjectStoreType, type FerryLambdaEntries, type FerryProps, type FunctionSizing } from './ferry-props';
export * from './topic';
export * from './topic-base';
export { StartingPosition, type ConsumerDefinition, type ConsumerProps } from './topic-consumers';
export type { IFerryCluster, TopicOptions, TopicProps } from './topic-props';
export { FerryPropsError } from './validation';
export type { ObjectStore } from './object-stores';
export type { FerryRoute, RouteGroup } from './routes';
export { API_STAGE, ROUTES } from './routes';
export { FerryAlarms, type FerryAlarmsProps } from './alarms';
export { FerryDashboard, type FerryDashboardProps } from './dashboard';
export { METRICS_NAMESPACE, ferryMetric } from './metrics';
