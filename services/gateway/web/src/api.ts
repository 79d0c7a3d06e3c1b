// The console's one way to the platform: the gateway's ConsoleService over Connect JSON on the
// page's own origin (the Content-Security-Policy allows no other), with the session's bearer
// token. An unauthenticated answer ends the session (back to login, the place kept).
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { useCallback, useEffect, useRef, useState } from "react";

import { BadRequestSchema } from "./gen/google/rpc/error_details_pb.js";
import { ConsoleService } from "./gen/linli/gateway/v1/console_pb.js";
import { currentSession, endSession } from "./session.js";

const authorise: Interceptor = (next) => async (request) => {
  const session = currentSession();
  if (session) request.header.set("Authorization", `Bearer ${session.token}`);
  try {
    return await next(request);
  } catch (e) {
    if (ConnectError.from(e).code === Code.Unauthenticated) endSession("rejected");
    throw e;
  }
};

export const api = createClient(
  ConsoleService,
  createConnectTransport({ baseUrl: window.location.origin, interceptors: [authorise] }),
);

export interface ErrorText {
  code: string; // Connect's name: "permission_denied"
  message: string;
  fields: { field: string; reason: string }[];
}

// What went wrong, as the gateway said it: the code, its message, and the fields a
// google.rpc.BadRequest names.
export function describeError(e: unknown): ErrorText {
  const error = ConnectError.from(e);
  const fields = error.findDetails(BadRequestSchema).flatMap((d) =>
    d.fieldViolations.map((v) => ({ field: v.field, reason: v.description })),
  );
  return { code: Code[error.code] ?? "unknown", message: error.rawMessage, fields };
}

export function isCode(e: unknown, code: Code): boolean {
  return e !== undefined && ConnectError.from(e).code === code;
}

export interface Write {
  // Runs one write: its answer, or undefined when it failed (then `error` holds why). After a
  // success, and after a stale etag (ABORTED: the record changed since it was read), the owner's
  // `reread` runs, so what staff see next is current.
  run: <T>(call: () => Promise<T>) => Promise<T | undefined>;
  busy: boolean;
  error: unknown;
}

// The one way the console's forms write: busy while a call runs, the error kept for <Problem>.
export function useWrite(reread?: () => void): Write {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async <T,>(call: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await call();
      reread?.();
      return answer;
    } catch (e) {
      setError(e);
      if (isCode(e, Code.Aborted)) reread?.();
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error };
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

// One read, redone when `deps` change (what was read before is dropped at once) or on reload()
// (what was read stays shown until the new answer replaces it, so a form below it keeps its
// state); an answer that arrives after newer deps is dropped.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const lastGeneration = useRef(generation);
  useEffect(() => {
    let live = true;
    const reloading = lastGeneration.current !== generation;
    lastGeneration.current = generation;
    setState((s) => (reloading && s.data !== undefined ? s : { loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
