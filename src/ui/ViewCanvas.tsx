import { useEffect, useRef } from 'react';

export interface ViewCanvasProps {
  /** size × size × channels, HWC: Float32 in [0, 1] or Uint8 in 0..255 */
  pixels: Float32Array | Uint8Array;
  size: number;
  channels: 1 | 3;
  role: 'original' | 'view';
  label: string;
  /** CSS px per image pixel; without it the canvas fills its container's width */
  scale?: number;
}

/** One image drawn pixel for pixel into a size × size canvas; CSS scales it up without smoothing. */
export function ViewCanvas({ pixels, size, channels, role, label, scale }: ViewCanvasProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || size < 1) return;
    const image = ctx.createImageData(size, size);
    // Uint8ClampedArray rounds and clamps on assignment, so float → byte is just ×255
    const toByte = pixels instanceof Uint8Array ? 1 : 255;
    const n = Math.min(size * size, Math.floor(pixels.length / channels));
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) image.data[4 * p + c] = pixels[p * channels + (channels === 3 ? c : 0)] * toByte;
      image.data[4 * p + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }, [pixels, size, channels]);
  return (
    <canvas
      ref={canvas}
      className="view-canvas"
      width={size}
      height={size}
      data-role={role}
      role="img"
      aria-label={label}
      style={scale ? { width: size * scale, height: size * scale } : undefined}
    />
  );
}
