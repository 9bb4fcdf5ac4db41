import nodemailer, { type Transporter } from 'nodemailer';

/**
 * Sends automation emails through SMTP_URL with nodemailer. Without SMTP_URL nothing leaves the
 * machine: the sent-mail log (and the EMAIL activity on the record) is then the whole record of it.
 */
export class Mailer {
  private readonly transport: Transporter | null;

  constructor(
    smtpUrl: string | undefined,
    private readonly from: string,
  ) {
    this.transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : null;
  }

  get configured(): boolean {
    return this.transport !== null;
  }

  async send(to: string, subject: string, text: string): Promise<void> {
    if (!this.transport) return;
    await this.transport.sendMail({ from: this.from, to, subject, text });
  }

  close(): void {
    this.transport?.close();
  }
}
