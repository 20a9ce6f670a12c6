// The client side of cloud-search-tls.test.ts, in a process of its own so that Node trusts the test CA
// (NODE_EXTRA_CA_CERTS is read at process start): the `googleapis` package's cloudsearch v1 client, unchanged,
// with an API key (googleapis sends it as `?key=`) or an OAuth2 client holding a JWT as its access token.
// Reads { rootUrl, apiKey, jwt } as JSON on stdin; prints one JSON line per step.
import { google, type cloudsearch_v1 } from "googleapis";

interface Input {
  rootUrl: string;
  apiKey: string;
  jwt: string;
}

const input = JSON.parse(await new Promise<string>((resolve) => {
  let text = "";
  process.stdin.on("data", (d) => (text += d));
  process.stdin.on("end", () => resolve(text));
})) as Input;

const client = (auth: string | InstanceType<typeof google.auth.OAuth2> | undefined): cloudsearch_v1.Cloudsearch =>
  google.cloudsearch({ version: "v1", rootUrl: input.rootUrl, auth, retry: false, timeout: 10_000 } as never);
const bearer = new google.auth.OAuth2();
bearer.setCredentials({ access_token: input.jwt, expiry_date: Date.now() + 3_600_000 });
const withKey = client(input.apiKey);
const withJwt = client(bearer);
const anonymous = client(undefined);

/** One step's outcome: the HTTP status and what the body says (an error's status and ErrorInfo reason). */
async function step(label: string, run: () => Promise<{ status: number; data: unknown }>): Promise<unknown> {
  try {
    const { status, data } = await run();
    console.log(JSON.stringify({ label, status, data }));
    return data;
  } catch (err) {
    const e = err as { status?: number; response?: { data?: { error?: { status?: string; details?: { reason?: string }[] } } } };
    const body = e.response?.data?.error;
    console.log(JSON.stringify({ label, status: e.status ?? -1, error: body?.status, reason: body?.details?.find((d) => d.reason)?.reason }));
    return undefined;
  }
}

const schema = { objectDefinitions: [{ name: "Ticket", propertyDefinitions: [{ name: "title", isReturnable: true, textPropertyOptions: {} }] }] };
const started = (await step("key: updateSchema", () => withKey.indexing.datasources.updateSchema({ name: "datasources/tickets", requestBody: { schema } }))) as { name?: string } | undefined;
const name = started?.name ?? "operations/missing";
for (let i = 0; i < 200; i++) {
  const { data } = await withKey.operations.get({ name });
  if (data.done) break;
  await new Promise((r) => setTimeout(r, 25));
}
await step("key: operations.get", () => withKey.operations.get({ name }));
await step("jwt: operations.get", () => withJwt.operations.get({ name }));
await step("jwt: operations.lro.list", () => withJwt.operations.lro.list({ name: "operations" }));
await step("jwt: updateSchema (viewer)", () => withJwt.indexing.datasources.updateSchema({ name: "datasources/tickets", requestBody: { schema } }));
await step("none: operations.get", () => anonymous.operations.get({ name }));
await step("bad key: operations.get", () => client("lr_not_a_key").operations.get({ name }));
