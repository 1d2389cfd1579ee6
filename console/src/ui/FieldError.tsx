/** The error of one form field; give the input aria-describedby={fieldErrorId(id)}. */
export const fieldErrorId = (id: string) => `${id}-error`;

export function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={fieldErrorId(id)} className="field-error" role="alert">
      {message}
    </p>
  );
}
