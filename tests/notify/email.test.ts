// Email against a real SMTP server (smtp-server): multipart text + HTML with
// everything escaped, the subject format, Auto-Submitted, one thread per
// alert (the first notification's Message-ID is <alert-{id}@pulse>, later ones
// point at it with In-Reply-To and References), the channel's own SMTP or the
// platform mailer, and SMTP answers: 5xx final, 4xx retried.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { startSmtpServer, type ReceivedMail, type SmtpReceiver } from "../helpers/receivers.ts";
import { startWorld, type World } from "./fixtures.ts";

let w: World;
let smtp: SmtpReceiver;

beforeAll(async () => {
  smtp = await startSmtpServer();
  w = await startWorld({ config: { "smtp.host": "127.0.0.1", "smtp.port": smtp.port, "smtp.security": "none", "smtp.from": "Pulse Platform <platform@pulse.test>" } });
}, 60_000);
afterEach(async () => {
  await w.reset();
  smtp.mails.length = 0;
}, 60_000);
afterAll(async () => {
  await w.stop();
  await smtp.stop();
}, 60_000);

const ownSmtp = () => ({ smtp_host: "127.0.0.1", smtp_port: smtp.port, smtp_security: "none", from: "Acme Alerts <alerts@acme.test>" });

describe("email", () => {
  test("one thread per alert: multipart, escaped, subject, Message-ID threading, Auto-Submitted", async () => {
    const ch = await w.channel("email", { recipients: ["ops@acme.test", "oncall@acme.test"], ...ownSmtp() });
    await w.route(ch, { transitions: ["triggered", "acknowledged", "resolved"] });
    const rule = `Boiler <b>hot</b> & "loud"`;
    await w.rule("m_mail", { name: rule });
    await w.send("pump-7", { m_mail: 99 });
    const alert = (await w.alertOf("pump-7", "m_mail"))!;
    expect((await w.api(`/alerts/${alert.id}/acknowledge`, { body: {} })).status).toBe(200);
    await w.send("pump-7", { m_mail: 5 });
    await w.send("pump-7", { m_mail: 99 }); // re-opened: the same alert, the same thread
    await w.drain();
    const mails = await smtp.waitFor(4);
    expect(mails.map((m) => m.header("subject")!.slice(0, 26))).toEqual(["[FIRING][CRITICAL] Boiler ", "[ACKNOWLEDGED][CRITICAL] B", "[RESOLVED][CRITICAL] Boile", "[FIRING][CRITICAL] Boiler "]);
    const root = `<alert-${alert.id}@pulse>`;
    const [first, ...later] = mails as [ReceivedMail, ...ReceivedMail[]];

    expect(first.header("message-id")).toBe(root);
    expect(first.header("in-reply-to")).toBeUndefined();
    expect(first.header("subject")).toBe(`[FIRING][CRITICAL] ${rule}: m_mail 99 > 80 on pump-7 – pump-7`);
    expect(first.from).toBe("alerts@acme.test");
    expect(first.header("from")).toBe("Acme Alerts <alerts@acme.test>");
    expect(first.to.sort()).toEqual(["oncall@acme.test", "ops@acme.test"]);
    const ids = new Set([root]);
    for (const m of later) {
      expect(m.header("in-reply-to")).toBe(root);
      expect(m.header("references")).toBe(root);
      const id = m.header("message-id")!;
      expect(id).toMatch(new RegExp(`^<alert-${alert.id}\\.msg_[\\w-]+@pulse>$`));
      ids.add(id);
    }
    expect(ids.size).toBe(4);

    for (const m of mails) {
      expect(m.header("auto-submitted")).toBe("auto-generated");
      expect(m.header("content-type")).toStartWith("multipart/alternative");
      const text = m.part("text/plain")!;
      const html = m.part("text/html")!;
      expect(text).toContain(rule);
      expect(text).toContain(`${w.pulse.app.url()}/alerts/${alert.id}`);
      expect(html).toContain("Boiler &#60;b&#62;hot&#60;/b&#62; &#38; &#34;loud&#34;");
      expect(html).not.toContain("<b>hot</b>");
      expect(html).toContain(`href="${w.pulse.app.url()}/alerts/${alert.id}"`);
    }
    expect(later[0]!.part("text/plain")).toContain("Acknowledged by: notify-tests");
  });

  test("without an SMTP server of its own the channel uses the platform mailer", async () => {
    const ch = await w.channel("email", { recipients: "ops@acme.test" });
    await w.route(ch);
    await w.rule("m_platform");
    await w.send("pump-8", { m_platform: 99 });
    await w.drain();
    const [m] = await smtp.waitFor(1);
    expect(m!.header("from")).toBe("Pulse Platform <platform@pulse.test>");
    expect(m!.to).toEqual(["ops@acme.test"]);
    expect(m!.header("auto-submitted")).toBe("auto-generated");
    expect(m!.header("subject")).toStartWith("[FIRING][CRITICAL] m_platform too high");
    expect((await w.deliveries(ch))[0]!.status).toBe("delivered");
  });

  test("SMTP 5xx is a dead letter; 4xx is tried again", async () => {
    const refused = await w.channel("email", { recipients: ["nobody@acme.test"], ...ownSmtp() }, "refused");
    await w.route(refused);
    await w.rule("m_550");
    smtp.refuseNext(550);
    await w.send("pump-7", { m_550: 99 });
    await w.drain();
    const [dead] = await w.deliveries(refused);
    expect(dead).toMatchObject({ status: "dead", attempts: 1 });
    expect(dead!.last_error).toContain("550");
    await w.reset();

    const later = await w.channel("email", { recipients: ["ops@acme.test"], ...ownSmtp() }, "greylisted");
    await w.route(later);
    await w.rule("m_451");
    smtp.refuseNext(451);
    await w.send("pump-7", { m_451: 99 });
    await w.drain();
    const [pending] = await w.deliveries(later);
    expect(pending).toMatchObject({ status: "pending", attempts: 1 });
    expect(pending!.last_error).toContain("451");
    expect(smtp.mails).toHaveLength(0);
    await w.retryNow();
    expect((await w.deliveries(later))[0]).toMatchObject({ status: "delivered", attempts: 2 });
    expect(await smtp.waitFor(1)).toHaveLength(1);
  });
});
