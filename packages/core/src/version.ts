export const paddockVersion = '0.1.0';
