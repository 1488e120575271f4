//! What the serving role is allowed, as PostgreSQL sees it: checked at start so an operator
//! who serves as a superuser or as the owner of the tables hears about it.

use sqlx::PgPool;

/// The role a pool's connections act as, and how much more than `keyward_app` it holds.
#[derive(Debug)]
pub struct ServingRole {
    pub name: String,
    pub database: String,
    pub is_superuser: bool,
    /// Tables of schema public whose owner's privileges this role holds (itself, or a role it
    /// inherits from).
    pub owned_tables: i64,
}

pub async fn serving_role(pool: &PgPool) -> Result<ServingRole, sqlx::Error> {
    sqlx::query_as!(
        ServingRole,
        r#"SELECT current_user AS "name!", current_database() AS "database!",
                  (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS "is_superuser!",
                  (SELECT count(*) FROM pg_class c
                   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                     AND pg_has_role(current_user, c.relowner, 'USAGE')) AS "owned_tables!""#
    )
    .fetch_one(pool)
    .await
}
