import { useEffect } from 'react';
import { Route, Routes } from 'react-router';
import { prewarmLayout } from '../ui/run-graph';
import { Empty } from '../ui/states';
import { RunPage } from './run-page/RunPage';
import { RunsListPage } from './runs-list/RunsListPage';
import './runs.css';

/** `/p/:project/runs/*`: the list (`?pipeline=&status=`) and a run (`:runId`, `?stage=` opens a stage). */
export function RunsSection() {
  // The graph's layout engine (a worker) starts while the list or the run loads.
  useEffect(() => prewarmLayout(), []);
  return (
    <Routes>
      <Route index element={<RunsListPage />} />
      <Route path=":runId" element={<RunPage />} />
      <Route path="*" element={<Empty title="No such page" />} />
    </Routes>
  );
}
