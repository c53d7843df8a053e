import type { AnchorHTMLAttributes } from 'react';
import { linkHandler } from '../router';

export function Link({ href, children, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a href={href} onClick={linkHandler(href)} {...rest}>
      {children}
    </a>
  );
}
