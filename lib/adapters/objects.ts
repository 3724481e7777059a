/**
 * The S3 object operations the archive's writers and outcome readers use, over either transport: the
 * SDK's client (`sdkObjects` in `aws-clients.ts`, for the CLI, the bench and tests) or the lean one on
 * `fetch` (`lib/aws/s3-objects.ts`, for the Lambda functions).
 */
export interface ObjectStore {
  put(object: {
    readonly bucket: string;
    readonly key: string;
    readonly body: string | Uint8Array;
    readonly contentType: string;
  }): Promise<void>;
  /** The object's bytes, or undefined when there is no such key. */
  get(bucket: string, key: string): Promise<Uint8Array | undefined>;
}
