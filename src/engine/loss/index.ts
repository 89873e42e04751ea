export { dsmLoss, DSM_DEFAULTS, type DsmOptions, type DsmResult, type Reduction } from './dsm'
export { WEIGHTINGS, getWeighting, type Weighting } from './weighting'
export { TimeBucketAccumulator, bucketMeans, bucketSums, bucketOf, DEFAULT_BUCKETS } from './buckets'
export { gaussianDsmFloor, gaussianDsmFloorAt } from './floor'
