import { useEffect, useRef } from 'react';
import { downloadBlob } from './compareDownload';

/** Downloads an export once, when the worker's answer to the latest request arrives. */
export function useDownloadWhenReady(file: { requestId: number; bytes: Uint8Array; fileName: string } | null, requestId: number, type: string): void {
  const downloaded = useRef(0);
  useEffect(() => {
    if (!file || file.requestId !== requestId || downloaded.current === file.requestId) return;
    downloaded.current = file.requestId;
    downloadBlob(new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type }), file.fileName);
  }, [file, requestId, type]);
}
