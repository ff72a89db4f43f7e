/**
 * Writes one record straight into an IndexedDB store (fake-indexeddb in the
 * tests), as an older version or a damaged profile might have left it: for
 * the tests that check every record read back is validated.
 */
export async function writeRawRecord(database: string, version: number, store: string, record: object): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(database, version);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction([store], 'readwrite');
    tx.objectStore(store).put(record);
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
  db.close();
}
