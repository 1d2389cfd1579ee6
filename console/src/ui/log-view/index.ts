export { LogView, type LogViewProps } from './LogView';
export { LogViewer, ROW_HEIGHT, type LogViewerProps } from './LogViewer';
export { LineStore } from './lineStore';
export { useBuildLog, type LogPhase } from './useBuildLog';
