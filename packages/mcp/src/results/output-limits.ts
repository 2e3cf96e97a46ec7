/**
 * How much a tool result may carry. An MCP result lands in a model's context:
 * past these sizes it costs more than it tells, so output is cut with a note.
 */
export const outputLimits = {
  /** Characters kept of each of stdout and stderr (half from the start, half from the end). */
  streamChars: 32_000,
  /** Bytes read of one file (read_file, a file resource, each of run_code's returnFiles). */
  fileBytes: 1024 * 1024,
  /** Bytes of all the files one run_code returns together. */
  returnedBytes: 4 * 1024 * 1024,
  /** Characters write_file takes in one call (8 MiB: 6 MiB of binary as base64). */
  writeChars: 8 * 1024 * 1024,
  /**
   * Bytes of one incoming stdio message. Above the largest write_file (even
   * with every character escaped), so an oversized call is refused by its
   * schema rather than ending the connection.
   */
  stdioMessageBytes: 64 * 1024 * 1024,
  /** Entries list_files returns. */
  listEntries: 1000,
} as const;
