/**
 * The hosted inquiry page as HTML: the form for a person's details (with
 * each error beside its field), the thank-you page, and the pages for a
 * link that is unknown, expired or used. Every value is HTML-escaped; no
 * page shows anything stored about the inquiry (the form is not prefilled),
 * so a forwarded or leaked link shows no one's data.
 */

export const FORM_FIELDS = [
  { name: 'name_first', label: 'First name', type: 'text', autocomplete: 'given-name', required: true },
  { name: 'name_last', label: 'Last name', type: 'text', autocomplete: 'family-name', required: true },
  { name: 'birthdate', label: 'Date of birth', type: 'date', autocomplete: 'bday', required: true },
  { name: 'email', label: 'Email', type: 'email', autocomplete: 'email', required: false },
  { name: 'phone', label: 'Phone', type: 'tel', autocomplete: 'tel', required: false },
  { name: 'country', label: 'Country (two letters, e.g. DE)', type: 'text', autocomplete: 'country', required: true },
] as const;

export type FormFieldName = (typeof FORM_FIELDS)[number]['name'];

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}
.error{color:#a40000;margin:.2rem 0 0}
button{margin-top:1.5rem;padding:.5rem 1.5rem;font-size:1rem}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

/** The form, with what the applicant typed and an error per field when a submission was refused. */
export function formPage(values: Partial<Record<FormFieldName, string>> = {}, errors: Partial<Record<FormFieldName, string>> = {}): string {
  const problems = Object.keys(errors).length;
  const summary = problems > 0 ? `<p role="alert">Please correct ${problems === 1 ? 'the field' : `the ${problems} fields`} marked below.</p>\n` : '';
  const inputs = FORM_FIELDS.map((f) => {
    const error = errors[f.name];
    const errorId = `${f.name}-error`;
    return [
      `<label for="${f.name}">${escapeHtml(f.label)}${f.required ? '' : ' (optional)'}</label>`,
      `<input id="${f.name}" name="${f.name}" type="${f.type}" autocomplete="${f.autocomplete}"` +
        `${f.required ? ' required' : ''} value="${escapeHtml(values[f.name] ?? '')}"` +
        `${error ? ` aria-invalid="true" aria-describedby="${errorId}"` : ''}>`,
      error ? `<p class="error" id="${errorId}">${escapeHtml(error)}</p>` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }).join('\n');
  return layout('Continue your verification', `${summary}<p>Please enter your details to complete your verification.</p>
<form method="post">
${inputs}
<button type="submit">Submit</button>
</form>`);
}

export function thankYouPage(): string {
  return layout('Thank you', '<p>Your details were received. You can close this page.</p>');
}

export function unknownLinkPage(): string {
  return layout('Link not found', '<p>This link is not valid. Please check that you copied the whole address.</p>');
}

export function goneLinkPage(why: 'expired' | 'used' | 'closed'): string {
  const text = {
    expired: 'This link has expired. Please ask for a new one.',
    used: 'This link has already been used. Each link works once.',
    closed: 'This verification can no longer be changed through this link.',
  }[why];
  return layout('Link no longer valid', `<p>${escapeHtml(text)}</p>`);
}
