import { Route, Routes } from 'react-router';
import { Empty } from '../ui/states';
import { PipelineEditor } from './editor/PipelineEditor';
import { PipelineList } from './list/PipelineList';

/** `/p/:project/pipelines/*`: the list, and the editor of one pipeline. */
export function PipelinesSection() {
  return (
    <Routes>
      <Route index element={<PipelineList />} />
      <Route path=":pipelineId" element={<PipelineEditor />} />
      <Route path="*" element={<Empty title="No such page" />} />
    </Routes>
  );
}
