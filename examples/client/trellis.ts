// A minimal GraphQL client over fetch, typed by the documents graphql-codegen generates: a typo in a
// field or a wrong variable is a compile error, and results come back with their exact types.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface TrellisError {
  message: string;
  extensions?: { code?: string; fields?: { field: string; message: string }[] };
}

/** A GraphQL error answer, with Trellis' stable `extensions.code` to switch on. */
export class TrellisRequestError extends Error {
  constructor(readonly errors: TrellisError[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

export interface TrellisClient {
  request<Result, Variables>(document: TypedDocumentNode<Result, Variables>, variables: Variables): Promise<Result>;
}

export function createTrellisClient(url: string, apiKey: string): TrellisClient {
  return {
    async request(document, variables) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await res.json()) as { data?: unknown; errors?: TrellisError[] };
      if (body.errors?.length) throw new TrellisRequestError(body.errors);
      return body.data as never;
    },
  };
}
