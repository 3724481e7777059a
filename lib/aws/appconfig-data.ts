import type { ConfigurationSessions } from '#lib/adapters/appconfig-data.ts';
import { type AwsClientOptions, type AwsService, parseJsonError, sendAwsCall } from './aws-request.ts';

const APPCONFIG_DATA: AwsService = {
  signingName: 'appconfig',
  endpointId: 'APPCONFIGDATA',
  hostPrefix: 'appconfigdata',
};

/**
 * AppConfigData's two operations on `fetch` (its REST API: a session is a POST, each poll a GET whose
 * body is the configuration and whose headers say the next token and interval): the Lambda functions'
 * way to read the kill switch and the registry.
 */
export function fetchConfigurationSessions(options: AwsClientOptions = {}): ConfigurationSessions {
  return {
    async startConfigurationSession(input) {
      const response = await sendAwsCall(
        APPCONFIG_DATA,
        {
          method: 'POST',
          path: '/configurationsessions',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(input),
        },
        parseJsonError,
        options,
      );
      const { InitialConfigurationToken } = JSON.parse(new TextDecoder().decode(response.body)) as {
        InitialConfigurationToken?: string;
      };
      return { ...(InitialConfigurationToken ? { InitialConfigurationToken } : {}) };
    },
    async getLatestConfiguration(input) {
      const response = await sendAwsCall(
        APPCONFIG_DATA,
        {
          method: 'GET',
          path: '/configuration',
          query: { configuration_token: input.ConfigurationToken ?? '' },
        },
        parseJsonError,
        options,
      );
      const header = (name: string) => response.headers.get(name) ?? undefined;
      const interval = header('next-poll-interval-in-seconds');
      const nextToken = header('next-poll-configuration-token');
      const contentType = header('content-type');
      const versionLabel = header('version-label');
      return {
        Configuration: response.body,
        ...(nextToken ? { NextPollConfigurationToken: nextToken } : {}),
        ...(interval ? { NextPollIntervalInSeconds: Number(interval) } : {}),
        ...(contentType ? { ContentType: contentType } : {}),
        ...(versionLabel ? { VersionLabel: versionLabel } : {}),
      };
    },
  };
}
