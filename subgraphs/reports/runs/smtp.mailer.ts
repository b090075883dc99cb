// The ReportMailer over SMTP, with nodemailer.
import { createTransport } from 'nodemailer';
import type { SmtpConfig } from '../../../lib/config.ts';
import type { ReportMail, ReportMailer } from './report-mailer.port.ts';

export interface SmtpMailerOptions extends SmtpConfig {
  /** The From header of every report. */
  from: string;
  /** Connecting, greeting and each command within this. */
  timeoutMs?: number;
  /** Accept the relay's certificate without checking it (local relays in tests). */
  insecureTls?: boolean;
}

export function createSmtpMailer(options: SmtpMailerOptions): ReportMailer {
  const { timeoutMs = 15_000 } = options;
  const transport = createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    ...(options.auth && { auth: options.auth }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    ...(options.insecureTls && { tls: { rejectUnauthorized: false } }),
  });
  return {
    async send(mail: ReportMail) {
      await transport.sendMail({
        from: options.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        attachments: [
          {
            filename: mail.attachment.fileName,
            content: mail.attachment.bytes,
            contentType: mail.attachment.contentType,
          },
        ],
      });
    },
    close: () => transport.close(),
  };
}
