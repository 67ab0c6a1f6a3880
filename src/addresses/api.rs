//! HTTP handlers and DTOs for `/api/v1/addresses` (the signed-in user's
//! address book).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::service::{self, AddressInput};
use super::{AddressRow, venezuela};
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::extract::{AuthUser, ValidatedJson};
use crate::http::problem::Problem;

/// A delivery address.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressResponse {
    /// Address id.
    pub id: Uuid,
    /// A name for it (`Casa`, `Oficina`).
    pub label: String,
    /// Who receives.
    pub recipient: String,
    /// Phone in E.164.
    #[schema(example = "+584141234567")]
    pub phone: String,
    /// Cédula (`V-12345678`) or RIF (`J-12345678-9`), normalised.
    pub national_id: String,
    /// Federal entity.
    #[schema(example = "Distrito Capital")]
    pub state: String,
    /// Municipality.
    pub municipality: String,
    /// City or town.
    pub city: String,
    /// Street, building, house.
    pub line1: String,
    /// Floor, apartment.
    pub line2: String,
    /// Punto de referencia.
    pub reference_point: String,
    /// For maps.
    pub latitude: Option<f64>,
    /// For maps.
    pub longitude: Option<f64>,
    /// The user's default address.
    pub is_default: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<AddressRow> for AddressResponse {
    fn from(r: AddressRow) -> Self {
        Self {
            id: r.id,
            label: r.label,
            recipient: r.recipient,
            phone: r.phone,
            national_id: r.national_id,
            state: r.state,
            municipality: r.municipality,
            city: r.city,
            line1: r.line1,
            line2: r.line2,
            reference_point: r.reference_point,
            latitude: r.latitude,
            longitude: r.longitude,
            is_default: r.is_default,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The user's addresses.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressList {
    /// Default first, then newest.
    pub items: Vec<AddressResponse>,
    /// The accepted state names.
    pub states: Vec<&'static str>,
}

/// Body of `create_address`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAddressRequest {
    /// A name for it, up to 40 characters.
    #[serde(default)]
    #[schema(max_length = 40, example = "Casa")]
    pub label: String,
    /// Who receives, 1 to 120 characters.
    #[schema(min_length = 1, max_length = 120, example = "María Pérez")]
    pub recipient: String,
    /// A Venezuelan phone in any usual form; stored in E.164.
    #[schema(example = "0414-123.45.67")]
    pub phone: String,
    /// Cédula (V/E and 6 to 8 digits) or RIF (V/E/J/G/P, 8 digits and a check digit).
    #[schema(example = "V-12345678")]
    pub national_id: String,
    /// One of the 23 states, Distrito Capital or Dependencias Federales (accents optional).
    #[schema(example = "Miranda")]
    pub state: String,
    /// Municipality, 1 to 80 characters.
    #[schema(min_length = 1, max_length = 80, example = "Sucre")]
    pub municipality: String,
    /// City or town, 1 to 80 characters.
    #[schema(min_length = 1, max_length = 80, example = "Petare")]
    pub city: String,
    /// Street, building, house; 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Av. Francisco de Miranda, Edif. Sol, piso 3"
    )]
    pub line1: String,
    /// Floor, apartment; up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub line2: String,
    /// Punto de referencia; up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200, example = "Frente a la panadería")]
    pub reference_point: String,
    /// Latitude (with longitude), within Venezuela.
    pub latitude: Option<f64>,
    /// Longitude (with latitude), within Venezuela.
    pub longitude: Option<f64>,
    /// Make it the default (the first address always is).
    #[serde(default)]
    pub is_default: bool,
}

/// Body of `update_address`: absent fields are kept; `null` clears the coordinates.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAddressRequest {
    /// New label.
    pub label: Option<String>,
    /// New recipient.
    pub recipient: Option<String>,
    /// New phone.
    pub phone: Option<String>,
    /// New cédula or RIF.
    pub national_id: Option<String>,
    /// New state.
    pub state: Option<String>,
    /// New municipality.
    pub municipality: Option<String>,
    /// New city.
    pub city: Option<String>,
    /// New first line.
    pub line1: Option<String>,
    /// New second line.
    pub line2: Option<String>,
    /// New reference point.
    pub reference_point: Option<String>,
    /// New latitude, or `null`.
    #[serde(default, deserialize_with = "crate::http::fields::nullable")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    /// New longitude, or `null`.
    #[serde(default, deserialize_with = "crate::http::fields::nullable")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
}

/// Lists the user's addresses.
///
/// Default first, then newest; with the accepted state names.
#[utoipa::path(tag = "addresses", operation_id = "list_addresses",
    responses((status = 200, description = "The address book", body = AddressList)))]
#[get("/addresses")]
pub async fn list_addresses(
    pool: web::Data<DbPool>,
    user: AuthUser,
) -> Result<web::Json<AddressList>, AppError> {
    let rows = db::run(&pool, move |c| service::list(c, &user)).await?;
    Ok(web::Json(AddressList {
        items: rows.into_iter().map(Into::into).collect(),
        states: venezuela::STATES.to_vec(),
    }))
}

/// Adds an address.
///
/// The phone is normalised to E.164 and the national id checked (RIF check
/// digit included); every invalid field is listed. At most 20 addresses.
#[utoipa::path(tag = "addresses", operation_id = "create_address", request_body = CreateAddressRequest,
    responses(
        (status = 201, description = "The address", body = AddressResponse),
        (status = 409, description = "Too many addresses", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/addresses")]
pub async fn create_address(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ValidatedJson<CreateAddressRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let input = AddressInput {
        label: b.label,
        recipient: b.recipient,
        phone: b.phone,
        national_id: b.national_id,
        state: b.state,
        municipality: b.municipality,
        city: b.city,
        line1: b.line1,
        line2: b.line2,
        reference_point: b.reference_point,
        latitude: b.latitude,
        longitude: b.longitude,
    };
    let row = db::run(&pool, move |c| {
        service::create(c, &user, input, b.is_default)
    })
    .await?;
    Ok(HttpResponse::Created().json(AddressResponse::from(row)))
}

/// Reads one of the user's addresses.
///
/// 404 for anyone else's address.
#[utoipa::path(tag = "addresses", operation_id = "get_address",
    params(("address_id" = Uuid, Path, description = "The address id")),
    responses(
        (status = 200, description = "The address", body = AddressResponse),
        (status = 404, description = "No such address, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/addresses/{address_id}")]
pub async fn get_address(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<AddressResponse>, AppError> {
    let id = path.into_inner();
    Ok(web::Json(
        db::run(&pool, move |c| service::get(c, &user, id))
            .await?
            .into(),
    ))
}

/// Changes an address.
///
/// The result is checked as a whole, like a new address.
#[utoipa::path(tag = "addresses", operation_id = "update_address", request_body = UpdateAddressRequest,
    params(("address_id" = Uuid, Path, description = "The address id")),
    responses(
        (status = 200, description = "The address", body = AddressResponse),
        (status = 404, description = "No such address, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/addresses/{address_id}")]
pub async fn update_address(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: ValidatedJson<UpdateAddressRequest>,
) -> Result<web::Json<AddressResponse>, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let row = db::run(&pool, move |c| {
        service::update(c, &user, id, |a| {
            let set = |field: &mut String, v: Option<String>| {
                if let Some(v) = v {
                    *field = v;
                }
            };
            set(&mut a.label, b.label);
            set(&mut a.recipient, b.recipient);
            set(&mut a.phone, b.phone);
            set(&mut a.national_id, b.national_id);
            set(&mut a.state, b.state);
            set(&mut a.municipality, b.municipality);
            set(&mut a.city, b.city);
            set(&mut a.line1, b.line1);
            set(&mut a.line2, b.line2);
            set(&mut a.reference_point, b.reference_point);
            if let Some(lat) = b.latitude {
                a.latitude = lat;
            }
            if let Some(lng) = b.longitude {
                a.longitude = lng;
            }
        })
    })
    .await?;
    Ok(web::Json(row.into()))
}

/// Makes an address the user's default.
///
/// The previous default stops being one.
#[utoipa::path(tag = "addresses", operation_id = "set_default_address",
    params(("address_id" = Uuid, Path, description = "The address id")),
    responses(
        (status = 200, description = "The address", body = AddressResponse),
        (status = 404, description = "No such address, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/addresses/{address_id}/default")]
pub async fn set_default_address(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<AddressResponse>, AppError> {
    let id = path.into_inner();
    Ok(web::Json(
        db::run(&pool, move |c| service::make_default(c, &user, id))
            .await?
            .into(),
    ))
}

/// Deletes an address.
///
/// If it was the default, the newest remaining address becomes the default.
#[utoipa::path(tag = "addresses", operation_id = "delete_address",
    params(("address_id" = Uuid, Path, description = "The address id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such address, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/addresses/{address_id}")]
pub async fn delete_address(
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    db::run(&pool, move |c| service::delete(c, &user, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
