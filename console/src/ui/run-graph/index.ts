export { StageGraph, type StageGraphProps } from './StageGraph';
export { prewarmLayout } from './layout';
export { durationBetween, formatDuration } from './format';
export { ACTIVE_STAGE_STATUSES, type GraphStage, type GraphStageState } from './types';
export { useNow } from './stateStore';
