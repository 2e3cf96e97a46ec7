/**
 * The envd version Paddock's daemon answers as. The E2B SDKs gate features on
 * it: 0.4.0 lets a call name no user (the server picks its default, `user`),
 * 0.5.2 enables closeStdin, 0.5.7 octet-stream (and gzip) uploads. File
 * metadata (0.6.2) and entries in watch events (0.6.3) are not served, so the
 * version stays below them and the SDK says so before it sends anything.
 */
export const envdVersion = '0.5.7';
