import { Route, Routes } from 'react-router';
import { Empty } from '../ui/states';
import { BuildPage } from './build-page/BuildPage';
import { BuildsListPage } from './list/BuildsListPage';
import './builds.css';

/** `/p/:project/builds/*`: the list (`?pipeline=&stage=`) and a build with its log (`:buildId`). */
export function BuildsSection() {
  return (
    <Routes>
      <Route index element={<BuildsListPage />} />
      <Route path=":buildId" element={<BuildPage />} />
      <Route path="*" element={<Empty title="No such page" />} />
    </Routes>
  );
}
