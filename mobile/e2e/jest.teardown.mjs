export default async function teardown() {
  await globalThis.tesseraBackend?.stop();
}
