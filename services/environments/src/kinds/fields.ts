import { z } from 'zod';

export const MAX_NAME = 100;

/** Names: trimmed, 1..100 characters, printable. */
export const nameField = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .transform((v) => v.trim())
  .superRefine((v, ctx) => {
    if (!v) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must not be empty' });
    else if (v.length > MAX_NAME) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be at most ${MAX_NAME} characters (got ${v.length})` });
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f]/.test(v)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must not contain control characters' });
  });

/** A URL with one of `schemes` and a host; at most 2048 characters. */
export const urlField = (schemes: string[], example: string) =>
  z
    .string({ required_error: `is required (e.g. ${example})`, invalid_type_error: 'must be a string' })
    .transform((v) => v.trim())
    .superRefine((v, ctx) => {
      const hint = `must be a ${schemes.map((s) => `${s}://`).join(' or ')} URL with a host (e.g. ${example})`;
      if (v.length > 2048) return ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be at most 2048 characters (got ${v.length})` });
      try {
        const u = new URL(v);
        if (!schemes.includes(u.protocol.replace(/:$/, '')) || !u.hostname) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${hint} (got "${v}")` });
        else if (u.username || u.password) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must not carry credentials; put them in the credential fields' });
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${hint} (got "${v.slice(0, 200)}")` });
      }
    });

/** A free-text setting that may be absent; trimmed; empty counts as absent. */
export const optionalText = (max: number) =>
  z
    .string({ invalid_type_error: 'must be a string' })
    .transform((v) => v.trim())
    .refine((v) => v.length <= max, { message: `must be at most ${max} characters` })
    .nullish()
    .transform((v) => (v ? v : null));

/** A secret: any non-empty string up to 64 KB, or absent. */
export const secretField = z
  .string({ invalid_type_error: 'must be a string' })
  .refine((v) => v.length > 0, { message: 'must not be empty (send null to clear it)' })
  .refine((v) => v.length <= 65536, { message: 'must be at most 64 KB' })
  .nullish()
  .transform((v) => v ?? null);

export const pemField = (what: string, label: RegExp) =>
  z
    .string({ invalid_type_error: 'must be a string' })
    .transform((v) => v.trim())
    .refine((v) => !v || label.test(v), { message: `must be a PEM ${what} ("-----BEGIN ...-----")` })
    .nullish()
    .transform((v) => (v ? v : null));

/** A git branch name (the parts of `git check-ref-format` a user can get wrong). */
export const branchField = z
  .string({ invalid_type_error: 'must be a string' })
  .transform((v) => v.trim())
  .refine((v) => v.length > 0 && v.length <= 255 && !/(^[/.-])|\.\.|[\s~^:?*[\\]|\/$|\.lock$|@\{/.test(v), {
    message: 'must be a valid git branch name (e.g. main)',
  });

/** A Kubernetes namespace (DNS-1123 label). */
export const namespaceField = z
  .string({ invalid_type_error: 'must be a string' })
  .refine((v) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v), { message: 'must be a Kubernetes namespace: lower-case letters, digits and "-", at most 63 (e.g. default)' });
