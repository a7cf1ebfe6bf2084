// Secrets at rest (signing keys, channel credentials) are sealed with
// AES-256-GCM under a key from config, or from data_dir/secret.key, which is
// generated once, readable only by its owner, and then reused.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSecretBox, resolveSecretKey } from "../../src/lib/secrets.ts";
import { tempDir } from "../helpers/databases.ts";

const KEY = "test-secret-key-test-secret-key-test-secret";
const OTHER_KEY = "another-secret-key-another-secret-key-xyz";
const dirs: string[] = [];
const newDir = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the secret box", () => {
  test("seals and opens a secret; the sealed form is versioned and never shows the plain text", async () => {
    const box = await createSecretBox(KEY);
    const plain = "xoxb-slack-token ✓";
    const sealed = await box.encrypt(plain);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("xoxb");
    expect(await box.decrypt(sealed)).toBe(plain);
  });

  test("sealing the same secret twice gives different texts (a fresh IV each time)", async () => {
    const box = await createSecretBox(KEY);
    const [a, b] = [await box.encrypt("same"), await box.encrypt("same")];
    expect(a).not.toBe(b);
    expect(await box.decrypt(a)).toBe(await box.decrypt(b));
  });

  test("another box with the same key opens it (another node, a restart)", async () => {
    const sealed = await (await createSecretBox(KEY)).encrypt("shared");
    expect(await (await createSecretBox(KEY)).decrypt(sealed)).toBe("shared");
  });

  test("a wrong key fails with an error that says what probably happened", async () => {
    const sealed = await (await createSecretBox(KEY)).encrypt("smtp-password");
    const other = await createSecretBox(OTHER_KEY);
    await expect(other.decrypt(sealed)).rejects.toThrow("secrets: cannot decrypt (was security.secret_key changed?)");
  });

  test("a tampered or malformed value is refused", async () => {
    const box = await createSecretBox(KEY);
    const sealed = await box.encrypt("webhook-secret");
    const [v, iv, ct] = sealed.split(".");
    const flipped = ct!.slice(0, -2) + (ct!.at(-2) === "A" ? "B" : "A") + ct!.at(-1);
    await expect(box.decrypt(`${v}.${iv}.${flipped}`)).rejects.toThrow("secrets: cannot decrypt");
    for (const bad of ["plain text", "v2.abc.def", "v1.abc", `${sealed}.extra`, ""]) {
      await expect(box.decrypt(bad)).rejects.toThrow("secrets: not a sealed value");
    }
  });
});

describe("the secret key", () => {
  test("a configured key is used as it is, and no file is written", () => {
    const dir = newDir();
    expect(resolveSecretKey(KEY, dir)).toEqual({ key: KEY, generated: false });
    expect(existsSync(join(dir, "secret.key"))).toBe(false);
  });

  test("without one, a key is generated once into data_dir/secret.key (0600) and reused after", async () => {
    const dir = join(newDir(), "not-yet-created");
    const first = resolveSecretKey("", dir);
    const path = join(dir, "secret.key");
    expect(first).toEqual({ key: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), generated: true, path });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe(first.key + "\n");

    const second = resolveSecretKey("", dir);
    expect(second).toEqual({ key: first.key, generated: false, path });
    // And what the first start sealed, the second opens.
    const sealed = await (await createSecretBox(first.key)).encrypt("kept across restarts");
    expect(await (await createSecretBox(second.key)).decrypt(sealed)).toBe("kept across restarts");
  });

  test("an empty or truncated key file is refused rather than used", () => {
    const dir = newDir();
    writeFileSync(join(dir, "secret.key"), "\n", { mode: 0o600 });
    expect(() => resolveSecretKey("", dir)).toThrow(/secret\.key holds no usable key/);
    writeFileSync(join(dir, "secret.key"), "short\n", { mode: 0o600 });
    expect(() => resolveSecretKey("", dir)).toThrow(/secret\.key holds no usable key/);
  });
});
