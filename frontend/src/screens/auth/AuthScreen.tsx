import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { ApiError, describeError } from '../../api/errors';
import { tokens } from '../../api/tokens';
import { Field } from '../../components/Field';
import { Link } from '../../components/Link';
import { navigate, safeNext, useLocation } from '../../router';

type Mode = 'login' | 'register';

const FIELDS: Record<Mode, string[]> = {
  login: ['username', 'password'],
  register: ['username', 'email', 'password'],
};

export function AuthScreen({ mode }: { mode: Mode }) {
  const { query } = useLocation();
  const next = safeNext(query.get('next'));
  const [values, setValues] = useState({ username: '', email: '', password: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const [generic, setGeneric] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const expired = query.get('expired') === '1';
  const nextQuery = next !== '/' ? `?next=${encodeURIComponent(next)}` : '';

  const set = (name: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setGeneric(null);
    try {
      if (mode === 'register') await api.register(values.username.trim(), values.email.trim(), values.password);
      tokens.set(await api.login(values.username.trim(), values.password));
      navigate(next, { replace: true });
    } catch (err) {
      if (err instanceof ApiError) setError(err);
      else setGeneric(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (name: string) => error?.field(name);
  const shown = FIELDS[mode];
  // The summary says what went wrong overall (e.g. "Wrong username, email or password").
  const summary = error ? error.message : generic;
  const extra = error ? error.unclaimed(shown) : [];
  const title = mode === 'login' ? 'Log in to Photon' : 'Create your Photon account';

  return (
    <main className="auth" id="main">
      <form className="auth__card card" onSubmit={submit} noValidate aria-labelledby="auth-title">
        <div className="brand brand--large" aria-hidden="true">
          <span className="brand__dot" /> Photon
        </div>
        <h1 id="auth-title">{title}</h1>
        {expired && mode === 'login' && !error && (
          <p className="notice" role="status">
            Your session ended. Log in again to continue where you were.
          </p>
        )}
        {summary && (
          <div className="form-error" role="alert" data-testid="form-error">
            {summary}
            {extra.length > 0 && (
              <ul>
                {extra.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        <Field
          label={mode === 'login' ? 'Username or email' : 'Username'}
          name="username"
          autoComplete="username"
          required
          value={values.username}
          onChange={set('username')}
          error={fieldError('username')}
          hint={mode === 'register' ? '3-32 characters: letters, digits, _ . -' : undefined}
        />
        {mode === 'register' && (
          <Field label="Email" name="email" type="email" autoComplete="email" required value={values.email} onChange={set('email')} error={fieldError('email')} />
        )}
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
          required
          value={values.password}
          onChange={set('password')}
          error={fieldError('password')}
          hint={mode === 'register' ? '8+ characters, mixing letters with digits or symbols' : undefined}
        />
        <button className="btn btn--primary btn--block" type="submit" disabled={busy}>
          {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Create account'}
        </button>
        <p className="auth__switch">
          {mode === 'login' ? (
            <>
              New here? <Link href={`/register${nextQuery}`}>Create an account</Link>
            </>
          ) : (
            <>
              Have an account? <Link href={`/login${nextQuery}`}>Log in</Link>
            </>
          )}
        </p>
        <p className="muted small">Paper trading only: Photon never places a real trade.</p>
      </form>
    </main>
  );
}
