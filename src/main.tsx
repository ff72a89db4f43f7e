import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { startTrainingClient } from './state/trainingClient';
import { startCheckpoints } from './state/checkpointStore';
import './ui/app.css';

startTrainingClient();
startCheckpoints();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
