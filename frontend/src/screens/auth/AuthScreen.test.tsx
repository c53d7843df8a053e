import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { tokens } from '../../api/tokens';
import { jwt, mockFetch } from '../../test/helpers';
import { AuthScreen } from './AuthScreen';

describe('AuthScreen', () => {
  beforeEach(() => {
    tokens.clear();
    window.history.replaceState(null, '', '/login');
  });

  it("shows the server's message for a wrong password", async () => {
    mockFetch({ 'POST /api/auth/login/': { status: 401, body: { code: 401, status: 'Unauthorized', message: 'Wrong username, email or password', errors: {} } } });
    render(<AuthScreen mode="login" />);
    await userEvent.type(screen.getByLabelText('Username or email'), 'alice');
    await userEvent.type(screen.getByLabelText('Password'), 'nope-nope-1');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await screen.findByTestId('form-error')).textContent).toContain('Wrong username, email or password');
    expect(tokens.loggedIn).toBe(false);
  });

  it('puts validation errors next to the fields they concern', async () => {
    mockFetch({
      'POST /api/auth/register/': {
        status: 422,
        body: { code: 422, status: 'Unprocessable Entity', message: 'Invalid input: username, email, password', errors: { json: { email: ['Not a valid email address.'], password: ['At least 8 characters.'], username: ['3-32 characters: letters, digits, _ . -'] } } },
      },
    });
    render(<AuthScreen mode="register" />);
    await userEvent.type(screen.getByLabelText('Username'), 'a');
    await userEvent.type(screen.getByLabelText('Email'), 'bad');
    await userEvent.type(screen.getByLabelText('Password'), 'short');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    const email = screen.getByLabelText('Email');
    expect(await screen.findByText('Not a valid email address.')).toBeTruthy();
    expect(email.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(email.getAttribute('aria-describedby')!.split(' ')[0])!.textContent).toBe('Not a valid email address.');
    expect(screen.getByText('At least 8 characters.')).toBeTruthy();
    expect(screen.getByText('3-32 characters: letters, digits, _ . -')).toBeTruthy();
  });

  it('shows a 409 conflict on the field it names', async () => {
    mockFetch({ 'POST /api/auth/register/': { status: 409, body: { code: 409, status: 'Conflict', message: 'That username is already registered', errors: { username: ['Taken.'] } } } });
    render(<AuthScreen mode="register" />);
    await userEvent.type(screen.getByLabelText('Username'), 'alice');
    await userEvent.type(screen.getByLabelText('Email'), 'a@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'correct-horse-9');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('Taken.')).toBeTruthy();
    expect(screen.getByTestId('form-error').textContent).toContain('That username is already registered');
  });

  it('logs in and goes back where the user was', async () => {
    window.history.replaceState(null, '', '/login?next=%2Fportfolio');
    const access = jwt({ exp: Math.floor(Date.now() / 1000) + 900 });
    mockFetch({ 'POST /api/auth/login/': { body: { access, refresh: 'r' } } });
    render(<AuthScreen mode="login" />);
    await userEvent.type(screen.getByLabelText('Username or email'), 'alice');
    await userEvent.type(screen.getByLabelText('Password'), 'correct-horse-9');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByRole('button', { name: 'Log in' });
    expect(tokens.accessToken).toBe(access);
    expect(window.location.pathname).toBe('/portfolio');
  });
});
