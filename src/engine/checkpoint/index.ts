export { saveCheckpoint, loadCheckpoint, peekCheckpoint, encodeCheckpoint, decodeCheckpoint, tensorsChecksum, CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoint'
