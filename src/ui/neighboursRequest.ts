import { evaluation } from '../state/trainingClient';

/**
 * Asks for an image's nearest neighbours and, when the neighbours panel is
 * off screen (the gallery that asks sits in the sidebar), brings it into view;
 * a panel already in sight stays put, so clicking around the map keeps the map.
 */
export function showNeighbours(split: 'train' | 'test', index: number): void {
  evaluation.neighbours(split, index);
  const panel = document.querySelector('[data-testid="neighbours"]');
  if (!panel) return;
  const { top, bottom } = panel.getBoundingClientRect();
  if (bottom < 0 || top > window.innerHeight) panel.scrollIntoView({ block: 'start', behavior: 'smooth' });
}
