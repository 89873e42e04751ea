export { saveCheckpoint, loadCheckpoint, encodeCheckpoint, decodeCheckpoint, CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoint'
