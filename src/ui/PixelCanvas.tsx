import { useEffect, useRef } from 'react';
import { hwcToRgba } from './pixels';

export interface PixelCanvasProps {
  /** a batch of size × size × channels HWC uint8 images */
  batch: Uint8Array;
  /** which image of the batch */
  index: number;
  size: number;
  channels: 1 | 3;
  /** accessible name: what the image shows */
  label: string;
  /** data-role for tests and styling (e.g. "query", "neighbour-h") */
  role?: string;
  className?: string;
  /** CSS px on screen; without it CSS decides */
  px?: number;
}

/** One image of a uint8 batch drawn pixel for pixel; CSS scales it up without smoothing. */
export function PixelCanvas({ batch, index, size, channels, label, role, className, px }: PixelCanvasProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || size < 1) return;
    const image = ctx.createImageData(size, size);
    hwcToRgba(batch, index, size, channels, image.data);
    ctx.putImageData(image, 0, 0);
  }, [batch, index, size, channels]);
  return (
    <canvas
      ref={canvas}
      className={`pixel-canvas${className ? ` ${className}` : ''}`}
      width={size}
      height={size}
      role="img"
      aria-label={label}
      data-role={role}
      style={px ? { width: px, height: px } : undefined}
    />
  );
}
