export * from './admin/admin';
export * from './assistant/assistant';
export * from './auth/auth';
export * from './compliance/compliance';
export * from './health/health';
export * from './ledger/ledger';
export * from './markets/markets';
export * from './trading/trading';
