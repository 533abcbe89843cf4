import { LatencyHistogram } from "../observability/latency_histogram.ts";

/**
 * One backend's own counters, updated by its connections as they work. Plain number fields and
 * a fixed-size histogram: updating them allocates nothing.
 */
export class BackendStats {
  /** Bytes written to the server. */
  bytesOut = 0;
  /** Bytes read from the server. */
  bytesIn = 0;
  /** Connects and replies that took longer than the timeout. */
  timeouts = 0;
  /** Times the server was marked down. */
  markedDown = 0;
  /**
   * Reply latencies: from the write that carried a request to the read that completed its
   * reply. A request that waits for a connection to open is timed from when it is written.
   */
  readonly latency: LatencyHistogram = new LatencyHistogram();
}
