//! Staff accounts: first-boot setup, operators, login with throttling, token checks and
//! WebSocket tickets. Every change is a venue event on the `AUDIT` stream.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::keys::SigningKey;
use crate::auth::pins::{DECOY_HASH, Pin, PinError};
use crate::auth::setup::SetupCode;
use crate::auth::throttle::{Failure, Key, Throttle};
use crate::auth::tickets::Tickets;
use crate::auth::tokens::Tokens;
use crate::auth::{OperatorId, Role, Staff};
use crate::bus::relay::RelayHandle;
use crate::store::operators::{self, OperatorError, OperatorRow};
use crate::store::{Store, venue_events};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("log in first")]
    Unauthenticated,
    #[error("your role may not do this")]
    Forbidden,
    #[error("wrong name or PIN")]
    InvalidCredentials,
    #[error("too many failed attempts: try again in {} s", crate::auth::throttle::whole_seconds(*.0))]
    Throttled(Duration),
    #[error("that setup code is not right")]
    InvalidSetupCode,
    #[error("setup is done: an admin exists already")]
    SetupDone,
    #[error(transparent)]
    InvalidPin(#[from] PinError),
    #[error("a new admin needs a new PIN of 6 to 8 digits, given with the role change")]
    AdminNeedsPin,
    #[error("a name is 1 to 40 characters, not only spaces")]
    InvalidName,
    #[error("an operator named {0:?} exists already")]
    NameTaken(String),
    #[error("no such operator")]
    NotFound,
    #[error("at least one active admin must remain")]
    LastAdmin,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<libsql::Error> for AccountError {
    fn from(e: libsql::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

/// A login: the token and who it is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub operator: OperatorView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperatorView {
    pub id: OperatorId,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// Unix seconds until which login is locked after 10 failures.
    pub locked_until: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorName {
    pub id: OperatorId,
    pub name: String,
}

/// Changes to an operator; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// A new PIN (a reset).
    pub pin: Option<String>,
}

pub struct Accounts {
    store: Store,
    audit_subject: String,
    relay: RelayHandle,
    tokens: Tokens,
    throttle: Mutex<Throttle>,
    /// PIN checks running at once (argon2 takes 19 MiB each).
    verifying: tokio::sync::Semaphore,
    tickets: Mutex<Tickets>,
    setup: Mutex<SetupCode>,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn valid_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        return Err(AccountError::InvalidName);
    }
    Ok(name.to_owned())
}

async fn hash(pin: Pin) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || pin.hash())
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))
}

impl Accounts {
    /// While no active admin exists, a setup code is generated and logged.
    pub async fn new(
        store: Store,
        audit_subject: String,
        relay: RelayHandle,
        key: &SigningKey,
        session: Duration,
    ) -> Result<Self, AccountError> {
        let admins = operators::active_admins(&*store.conn().await).await?;
        let setup = if admins == 0 {
            let code = SetupCode::generate();
            tracing::warn!(
                "first boot: no admin yet. Setup code: {} (shown on the kiosk screen)",
                code.current().unwrap_or_default()
            );
            code
        } else {
            SetupCode::default()
        };
        Ok(Self {
            store,
            audit_subject,
            relay,
            tokens: Tokens::new(key, session),
            throttle: Mutex::default(),
            verifying: tokio::sync::Semaphore::new(2),
            tickets: Mutex::default(),
            setup: Mutex::new(setup),
        })
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn view(&self, op: &OperatorRow) -> OperatorView {
        let now = Instant::now();
        let locked_until = self
            .throttle()
            .locked_until(&Key::Operator(op.id.to_string()), now)
            .map(|until| unix_now() + (until - now).as_secs() as i64);
        OperatorView {
            id: op.id,
            name: op.name.clone(),
            role: op.role,
            active: op.active,
            locked_until,
        }
    }

    fn session(&self, op: &OperatorRow) -> Session {
        let (token, claims) = self
            .tokens
            .issue(op.id, op.role, op.token_version, unix_now());
        Session {
            token,
            expires_at: claims.exp,
            operator: self.view(op),
        }
    }

    /// The setup code, while setup is still needed.
    pub fn setup_code(&self) -> Option<String> {
        self.setup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .current()
            .map(str::to_owned)
    }

    /// Creates the first admin with the setup code.
    pub async fn complete_setup(
        &self,
        code: &str,
        name: &str,
        pin: &str,
        from: IpAddr,
    ) -> Result<Session, AccountError> {
        let keys = [Key::Address(from)];
        self.throttle()
            .attempt(&keys, Instant::now())
            .map_err(AccountError::Throttled)?;
        let matches = self
            .setup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .matches(code);
        if !matches {
            if self.setup_code().is_none() {
                return Err(AccountError::SetupDone);
            }
            return Err(AccountError::InvalidSetupCode);
        }
        let name = valid_name(name)?;
        let pin = Pin::parse(pin, Role::Admin)?;
        let op = OperatorRow {
            id: OperatorId::new(),
            name,
            role: Role::Admin,
            pin_hash: hash(pin).await?,
            active: true,
            token_version: 1,
        };
        self.insert_operator(&op, op.id, "setup.completed").await?;
        self.setup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .consume();
        self.throttle().succeed(&keys);
        tracing::info!(operator = %op.id, "first admin created; setup code retired");
        Ok(self.session(&op))
    }

    /// Active operators' names, for the login screen.
    pub async fn names(&self) -> Result<Vec<OperatorName>, AccountError> {
        let all = operators::list(&*self.store.conn().await).await?;
        Ok(all
            .into_iter()
            .filter(|o| o.active)
            .map(|o| OperatorName {
                id: o.id,
                name: o.name,
            })
            .collect())
    }

    pub async fn list(&self) -> Result<Vec<OperatorView>, AccountError> {
        let all = operators::list(&*self.store.conn().await).await?;
        Ok(all.iter().map(|o| self.view(o)).collect())
    }

    /// Checks a PIN. A wrong operator and a wrong PIN answer alike and cost the same.
    /// Each attempt counts as a failure before the PIN is checked (a success clears
    /// it), so a burst of parallel guesses meets the backoff like a slow one; at most
    /// two PINs are checked at once, so a burst cannot exhaust memory either.
    pub async fn login(
        &self,
        operator: &str,
        pin: &str,
        from: IpAddr,
    ) -> Result<Session, AccountError> {
        let found = match operator.parse() {
            Ok(id) => operators::get(&*self.store.conn().await, OperatorId(id))
                .await?
                .filter(|o| o.active),
            Err(_) => None,
        };
        // Unknown names share one key: any spelling of a made-up id counts against it.
        let operator_key = found
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |o| o.id.to_string());
        let keys = [Key::Operator(operator_key), Key::Address(from)];
        let consequence = self
            .throttle()
            .attempt(&keys, Instant::now())
            .map_err(AccountError::Throttled)?;
        let hash = found
            .as_ref()
            .map_or_else(|| DECOY_HASH.clone(), |o| o.pin_hash.clone());
        let attempt = Pin::attempt(pin);
        let ok = {
            let _permit = self
                .verifying
                .acquire()
                .await
                .map_err(|e| AccountError::Internal(e.to_string()))?;
            tokio::task::spawn_blocking(move || {
                // Hash even a malformed PIN, so its answer takes as long as any other.
                let pin = attempt
                    .clone()
                    .unwrap_or_else(|| Pin::attempt("0000").expect("valid"));
                pin.verify(&hash) && attempt.is_some()
            })
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))?
        };
        match found {
            Some(op) if ok => {
                self.throttle().succeed(&keys);
                Ok(self.session(&op))
            }
            _ => {
                if consequence == Some(Failure::Locked) {
                    tracing::warn!(%from, "login locked for 15 minutes after 10 failures");
                    if let Some(op) = &found {
                        self.record(None, "operator.locked", json!({"operator": op.id}))
                            .await?;
                    }
                }
                Err(AccountError::InvalidCredentials)
            }
        }
    }

    /// Who a bearer token belongs to, if the token and the operator are still good.
    pub async fn authenticate(&self, token: &str) -> Result<Staff, AccountError> {
        let claims = self
            .tokens
            .verify(token, unix_now())
            .map_err(|_| AccountError::Unauthenticated)?;
        let op = operators::get(&*self.store.conn().await, claims.sub)
            .await?
            .ok_or(AccountError::Unauthenticated)?;
        if !op.active || op.token_version != claims.ver || op.role != claims.role {
            return Err(AccountError::Unauthenticated);
        }
        Ok(Staff {
            id: op.id,
            role: op.role,
            version: op.token_version,
        })
    }

    pub async fn me(&self, staff: &Staff) -> Result<OperatorView, AccountError> {
        let op = operators::get(&*self.store.conn().await, staff.id)
            .await?
            .ok_or(AccountError::NotFound)?;
        Ok(self.view(&op))
    }

    pub async fn create(
        &self,
        actor: &Staff,
        name: &str,
        role: Role,
        pin: &str,
    ) -> Result<OperatorView, AccountError> {
        let name = valid_name(name)?;
        let pin = Pin::parse(pin, role)?;
        let op = OperatorRow {
            id: OperatorId::new(),
            name,
            role,
            pin_hash: hash(pin).await?,
            active: true,
            token_version: 1,
        };
        self.insert_operator(&op, actor.id, "operator.created")
            .await?;
        Ok(self.view(&op))
    }

    /// Renames, changes role, enables/disables or resets the PIN. Any change but a
    /// rename revokes the operator's tokens.
    pub async fn update(
        &self,
        actor: &Staff,
        id: OperatorId,
        changes: OperatorChanges,
    ) -> Result<OperatorView, AccountError> {
        let name = changes.name.as_deref().map(valid_name).transpose()?;
        let new_pin_hash = {
            let current = operators::get(&*self.store.conn().await, id)
                .await?
                .ok_or(AccountError::NotFound)?;
            let role = changes.role.unwrap_or(current.role);
            // An admin's PIN is 6+ digits: a promotion comes with a new one.
            if role == Role::Admin && current.role != Role::Admin && changes.pin.is_none() {
                return Err(AccountError::AdminNeedsPin);
            }
            match &changes.pin {
                Some(pin) => Some(hash(Pin::parse(pin, role)?).await?),
                None => None,
            }
        };
        let conn = self.store.conn().await;
        let tx = conn.transaction().await?;
        let before = operators::get(&tx, id)
            .await?
            .ok_or(AccountError::NotFound)?;
        let mut after = before.clone();
        if let Some(name) = name {
            after.name = name;
        }
        if let Some(role) = changes.role {
            after.role = role;
        }
        if let Some(active) = changes.active {
            after.active = active;
        }
        if let Some(hash) = new_pin_hash {
            after.pin_hash = hash;
        }
        let revokes = after.role != before.role
            || after.active != before.active
            || after.pin_hash != before.pin_hash;
        if revokes {
            after.token_version += 1;
        }
        let was_admin = before.role == Role::Admin && before.active;
        let still_admin = after.role == Role::Admin && after.active;
        if was_admin && !still_admin && operators::active_admins(&tx).await? <= 1 {
            return Err(AccountError::LastAdmin);
        }
        operators::update(&tx, &after)
            .await
            .map_err(|e| self.operator_error(e, &after.name))?;
        // What changed, never the PIN or its hash.
        let mut data = json!({"operator": id});
        if after.name != before.name {
            data["name"] = json!(after.name);
        }
        if after.role != before.role {
            data["role"] = json!(after.role);
        }
        if after.active != before.active {
            data["active"] = json!(after.active);
        }
        if after.pin_hash != before.pin_hash {
            data["pin_reset"] = json!(true);
        }
        venue_events::append(
            &tx,
            &self.audit_subject,
            "operator.updated",
            Some(actor.id),
            data,
        )
        .await?;
        tx.commit().await?;
        drop(conn);
        self.relay.wake();
        Ok(self.view(&after))
    }

    /// Lifts a lockout of the operator's logins.
    pub async fn unlock(
        &self,
        actor: &Staff,
        id: OperatorId,
    ) -> Result<OperatorView, AccountError> {
        let op = operators::get(&*self.store.conn().await, id)
            .await?
            .ok_or(AccountError::NotFound)?;
        self.throttle().unlock_operator(&id.to_string());
        self.record(Some(actor.id), "operator.unlocked", json!({"operator": id}))
            .await?;
        Ok(self.view(&op))
    }

    pub fn issue_ticket(&self, staff: Staff) -> String {
        self.tickets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .issue(staff, Instant::now())
    }

    /// The staff member a ticket was issued to, if it is unused and unexpired and the
    /// operator's access has not changed since (disabled, new PIN or role).
    pub async fn redeem_ticket(&self, ticket: &str) -> Result<Option<Staff>, AccountError> {
        let staff = self
            .tickets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .redeem(ticket, Instant::now());
        let Some(staff) = staff else { return Ok(None) };
        let op = operators::get(&*self.store.conn().await, staff.id).await?;
        Ok(op
            .filter(|op| op.active && op.role == staff.role && op.token_version == staff.version)
            .map(|_| staff))
    }

    /// Appends one venue event in its own transaction.
    async fn record(
        &self,
        actor: Option<OperatorId>,
        kind: &str,
        data: serde_json::Value,
    ) -> Result<(), AccountError> {
        {
            let conn = self.store.conn().await;
            let tx = conn.transaction().await?;
            venue_events::append(&tx, &self.audit_subject, kind, actor, data).await?;
            tx.commit().await?;
        }
        self.relay.wake();
        Ok(())
    }

    /// Inserts an operator with its venue event. Setup (`setup.completed`) inserts only
    /// while no admin exists, checked in the same transaction.
    async fn insert_operator(
        &self,
        op: &OperatorRow,
        actor: OperatorId,
        kind: &str,
    ) -> Result<(), AccountError> {
        {
            let conn = self.store.conn().await;
            let tx = conn.transaction().await?;
            if kind == "setup.completed" && operators::active_admins(&tx).await? > 0 {
                return Err(AccountError::SetupDone);
            }
            operators::insert(&tx, op)
                .await
                .map_err(|e| self.operator_error(e, &op.name))?;
            venue_events::append(
                &tx,
                &self.audit_subject,
                kind,
                Some(actor),
                json!({"operator": op.id, "name": op.name, "role": op.role}),
            )
            .await?;
            tx.commit().await?;
        }
        self.relay.wake();
        Ok(())
    }

    fn operator_error(&self, e: OperatorError, name: &str) -> AccountError {
        match e {
            OperatorError::NameTaken => AccountError::NameTaken(name.to_owned()),
            OperatorError::Sql(e) => e.into(),
        }
    }
}
