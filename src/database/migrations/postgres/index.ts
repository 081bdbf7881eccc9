/** Every PostgreSQL migration, oldest first; run at start under an advisory lock. */
export const postgresMigrations = [];
