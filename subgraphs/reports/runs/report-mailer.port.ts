// How a report reaches an inbox: one message per recipient, the file attached. The SMTP adapter
// (smtp.mailer.ts) is the only file that imports nodemailer.

export interface ReportMail {
  to: string;
  subject: string;
  text: string;
  attachment: { fileName: string; contentType: string; bytes: Buffer };
}

export interface ReportMailer {
  /** Resolves once the relay accepted the message; rejects with its reason otherwise. */
  send(mail: ReportMail): Promise<void>;
  close(): void;
}

/** A delivery no retry can help (nowhere to send it): recorded once, not tried again. */
export class UndeliverableError extends Error {
  override name = 'UndeliverableError';
}

/** What a deployment without an SMTP relay has: every e-mail delivery fails, saying why. */
export const NO_MAILER: ReportMailer = {
  send: () =>
    Promise.reject(new UndeliverableError('no SMTP relay is configured (LOUPE_SMTP_HOST)')),
  close: () => {},
};
