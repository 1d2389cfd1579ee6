import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { App } from './App';
import { AuthProvider } from './auth/AuthProvider';
import { GraphQLProvider } from './graphql/GraphQLProvider';
import './ui/styles.css';

// A data router (so pages can block navigation with unsaved changes: useBlocker); the pages
// themselves are descendant <Routes> in App and the sections.
const router = createBrowserRouter([
  {
    path: '*',
    element: (
      <AuthProvider>
        <GraphQLProvider>
          <App />
        </GraphQLProvider>
      </AuthProvider>
    ),
  },
]);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
