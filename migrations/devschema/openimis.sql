-- The openIMIS subset a development or test database needs, faithful to the
-- PostgreSQL dump of openIMIS 1.4.2 (openimis/database_postgresql
-- "database scripts/00_dump.sql") with the Django-migration changes marked
-- "-- dj" (docs/openimis.md, "The tables"). Like the dump, it has no column defaults apart
-- from the integer sequences and "tblPremium"."CreatedDate": the gateway must
-- supply every other value itself, exactly as it must on a real deployment.
--
-- `imis-gateway migrate --dev-schema` runs this once, in one transaction,
-- and records that it did in imis_gateway.dev_schema.

CREATE TABLE "tblLocations" (
  "LocationId"       serial PRIMARY KEY,
  "LocationUUID"     varchar(36) NOT NULL UNIQUE,
  "LocationCode"     varchar(8),
  "LocationName"     varchar(50),
  "LocationType"     varchar(1) NOT NULL,             -- 'R','D','W','V'
  "ParentLocationId" integer REFERENCES "tblLocations"("LocationId") DEFERRABLE INITIALLY DEFERRED,
  "ValidityFrom"     timestamptz NOT NULL,
  "ValidityTo"       timestamptz,
  "LegacyID"         integer,
  "AuditUserId"      integer,                          -- note spelling
  "JsonExt"          jsonb                             -- dj location 0013
);

CREATE TABLE "tblHF" (
  "HfID"         serial PRIMARY KEY,
  "HfUUID"       varchar(36) NOT NULL UNIQUE,
  "HFCode"       varchar(8)  NOT NULL,
  "HFName"       varchar(100) NOT NULL,
  "HFLevel"      varchar(1)  NOT NULL,                 -- 'C','D','H'
  "HFCareType"   varchar(1)  NOT NULL,                 -- 'I','O','B'
  "LegalForm"    varchar(1)  NOT NULL,
  "LocationId"   integer NOT NULL REFERENCES "tblLocations"("LocationId") DEFERRABLE INITIALLY DEFERRED,
  "Phone"        varchar(50),
  "OffLine"      boolean NOT NULL,
  "ValidityFrom" timestamptz NOT NULL,
  "ValidityTo"   timestamptz,
  "LegacyID"     integer,
  "AuditUserID"  integer NOT NULL
);

CREATE TABLE "tblFamilies" (
  "FamilyID"      serial PRIMARY KEY,
  "FamilyUUID"    varchar(36) NOT NULL UNIQUE,
  "InsureeID"     integer NOT NULL,                     -- head; FK added below (circular)
  "LocationId"    integer REFERENCES "tblLocations"("LocationId") DEFERRABLE INITIALLY DEFERRED, -- village
  "Poverty"       boolean,
  "FamilyType"    varchar(2),
  "FamilyAddress" varchar(200),
  "ConfirmationNo"   varchar(12),
  "ConfirmationType" varchar(3),
  "isOffline"     boolean,
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL,
  "Source"        varchar(50),
  "SourceVersion" varchar(15),
  "JsonExt"       jsonb                                 -- dj insuree 0010
);

CREATE TABLE "tblInsuree" (
  "InsureeID"     serial PRIMARY KEY,
  "InsureeUUID"   varchar(36) NOT NULL UNIQUE,
  "FamilyID"      integer NOT NULL REFERENCES "tblFamilies"("FamilyID") DEFERRABLE INITIALLY DEFERRED,
  "CHFID"         varchar(50),                          -- 12 in dump; dj insuree 0019 -> 50
  "LastName"      varchar(100) NOT NULL,
  "OtherNames"    varchar(100) NOT NULL,
  "DOB"           date,                                 -- NOT NULL in dump; dj 0019 -> NULL
  "Gender"        varchar(1),                           -- 'M','F','O'
  "Marital"       varchar(1),
  "IsHead"        boolean NOT NULL,
  "Phone"         varchar(50),
  "Email"         varchar(100),
  "CardIssued"    boolean NOT NULL,
  "Relationship"  smallint,                             -- tblRelations; 7 = Others
  "CurrentVillage" integer,
  "HFID"          integer,
  "PhotoID"       integer,
  "PhotoDate"     date,
  "isOffline"     boolean,
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL,
  "Source"        varchar(50),
  "SourceVersion" varchar(15),
  "JsonExt"       jsonb,                                -- dj insuree 0010
  "status"        varchar(2),                           -- dj insuree 0017/0019: 'AC','IN','DE'
  "status_date"   date,                                 -- dj 0017
  "StatusReason"  smallint                              -- dj 0017 (FK tblInsureeStatusReason)
);
ALTER TABLE "tblFamilies" ADD FOREIGN KEY ("InsureeID")
  REFERENCES "tblInsuree"("InsureeID") DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE "tblOfficer" (
  "OfficerID"     serial PRIMARY KEY,
  "OfficerUUID"   varchar(36) NOT NULL UNIQUE,
  "Code"          varchar(8) NOT NULL,                  -- Django model says 50; physical likely 8
  "LastName"      varchar(100) NOT NULL,
  "OtherNames"    varchar(100) NOT NULL,
  "Phone"         varchar(50),
  "PhoneCommunication" boolean,
  "LocationId"    integer REFERENCES "tblLocations"("LocationId") DEFERRABLE INITIALLY DEFERRED, -- district
  "OfficerIDSubst" integer REFERENCES "tblOfficer"("OfficerID") DEFERRABLE INITIALLY DEFERRED,
  "WorksTo"       timestamptz,
  "HasLogin"      boolean,
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL,
  "JsonExt"       jsonb                                 -- dj core 0019
);

CREATE TABLE "tblOfficerVillages" (
  "OfficerVillageId" serial PRIMARY KEY,
  "OfficerId"     integer REFERENCES "tblOfficer"("OfficerID") DEFERRABLE INITIALLY DEFERRED,
  "LocationId"    integer REFERENCES "tblLocations"("LocationId") DEFERRABLE INITIALLY DEFERRED,
  "ValidityFrom"  timestamptz,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer
);

CREATE TABLE "tblProduct" (
  "ProdID"        serial PRIMARY KEY,
  "ProdUUID"      varchar(36) NOT NULL UNIQUE,
  "ProductCode"   varchar(8) NOT NULL,
  "ProductName"   varchar(100) NOT NULL,
  "LocationId"    integer REFERENCES "tblLocations"("LocationId") DEFERRABLE INITIALLY DEFERRED, -- NULL = national
  "DateFrom"      timestamptz NOT NULL,
  "DateTo"        timestamptz NOT NULL,
  "ConversionProdID" integer REFERENCES "tblProduct"("ProdID") DEFERRABLE INITIALLY DEFERRED,
  "InsurancePeriod"  smallint NOT NULL,                 -- months
  "AdministrationPeriod" integer,                       -- months
  "LumpSum"       numeric(18,2) NOT NULL,
  "MemberCount"   smallint NOT NULL,
  "Threshold"     integer,
  "PremiumAdult"  numeric(18,2),
  "PremiumChild"  numeric(18,2),
  "RegistrationLumpSum"    numeric(18,2),
  "RegistrationFee"        numeric(18,2),
  "GeneralAssemblyLumpSum" numeric(18,2),
  "GeneralAssemblyFee"     numeric(18,2),
  "GracePeriod"        integer NOT NULL,                -- months (enrolment)
  "GracePeriodRenewal" integer,                         -- months
  "WaitingPeriod"      integer,                         -- months (Django: grace_period_payment)
  "MaxInstallments"    integer,
  "RenewalDiscountPerc"     integer,
  "RenewalDiscountPeriod"   integer,                    -- months
  "EnrolmentDiscountPerc"   integer,
  "EnrolmentDiscountPeriod" integer,                    -- months
  "StartCycle1" varchar(5), "StartCycle2" varchar(5),   -- 'DD-MM'
  "StartCycle3" varchar(5), "StartCycle4" varchar(5),
  "DedInsuree" numeric(18,2), "DedOPInsuree" numeric(18,2), "DedIPInsuree" numeric(18,2),
  "MaxInsuree" numeric(18,2), "MaxOPInsuree" numeric(18,2), "MaxIPInsuree" numeric(18,2),
  "DedTreatment" numeric(18,2), "DedOPTreatment" numeric(18,2), "DedIPTreatment" numeric(18,2),
  "MaxTreatment" numeric(18,2), "MaxOPTreatment" numeric(18,2), "MaxIPTreatment" numeric(18,2),
  "DedPolicy" numeric(18,2), "DedOPPolicy" numeric(18,2), "DedIPPolicy" numeric(18,2),
  "MaxPolicy" numeric(18,2), "MaxOPPolicy" numeric(18,2), "MaxIPPolicy" numeric(18,2),
  "MaxPolicyExtraMember" numeric(18,2), "MaxPolicyExtraMemberIP" numeric(18,2), "MaxPolicyExtraMemberOP" numeric(18,2),
  "MaxCeilingPolicy" numeric(18,2), "MaxCeilingPolicyIP" numeric(18,2), "MaxCeilingPolicyOP" numeric(18,2),
  "MaxNoConsultation" integer, "MaxNoSurgery" integer, "MaxNoDelivery" integer,
  "MaxNoHospitalizaion" integer,                        -- (sic)
  "MaxNoVisits" integer, "MaxNoAntenatal" integer,
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL
);

CREATE TABLE "tblPolicy" (
  "PolicyID"      serial PRIMARY KEY,
  "PolicyUUID"    varchar(36) NOT NULL UNIQUE,
  "FamilyID"      integer NOT NULL REFERENCES "tblFamilies"("FamilyID") DEFERRABLE INITIALLY DEFERRED,
  "ProdID"        integer NOT NULL REFERENCES "tblProduct"("ProdID") DEFERRABLE INITIALLY DEFERRED,
  "OfficerID"     integer REFERENCES "tblOfficer"("OfficerID") DEFERRABLE INITIALLY DEFERRED,
  "PolicyStage"   varchar(1),                           -- 'N','R'
  "PolicyStatus"  smallint,                             -- 1,2,4,8,16
  "PolicyValue"   numeric(18,2),
  "EnrollDate"    date NOT NULL,
  "StartDate"     date NOT NULL,
  "EffectiveDate" date,
  "ExpiryDate"    date,
  "isOffline"     boolean,
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL,
  "Source"        varchar(50),
  "SourceVersion" varchar(15),
  "creationDate"  date                                  -- dj policy 0009
  -- dj policy 0008 also adds "ContributionPlanID" (FK to contribution_plan), omitted here
);

CREATE TABLE "tblInsureePolicy" (
  "InsureePolicyID" serial PRIMARY KEY,
  "InsureeID"     integer NOT NULL REFERENCES "tblInsuree"("InsureeID") DEFERRABLE INITIALLY DEFERRED,
  "PolicyId"      integer NOT NULL REFERENCES "tblPolicy"("PolicyID") DEFERRABLE INITIALLY DEFERRED,
  "EnrollmentDate" date,
  "StartDate"     date,
  "EffectiveDate" date,
  "ExpiryDate"    date,
  "isOffline"     boolean,
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL
);

CREATE TABLE "tblPremium" (
  "PremiumId"     serial PRIMARY KEY,
  "PremiumUUID"   varchar(36) NOT NULL UNIQUE,
  "PolicyID"      integer NOT NULL REFERENCES "tblPolicy"("PolicyID") DEFERRABLE INITIALLY DEFERRED,
  "PayerID"       integer,
  "Amount"        numeric(18,2) NOT NULL,
  "Receipt"       varchar(50) NOT NULL,
  "PayDate"       date NOT NULL,
  "PayType"       varchar(1) NOT NULL,                  -- 'C','B','M','F'
  "isPhotoFee"    boolean,
  "isOffline"     boolean,
  "ReportingId"   integer,
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL,
  "CreatedDate"   date DEFAULT CURRENT_DATE NOT NULL,
  "Source"        varchar(50),
  "SourceVersion" varchar(15)
);

CREATE TABLE "tblPolicyRenewals" (
  "RenewalID"         serial PRIMARY KEY,
  "RenewalUUID"       uuid NOT NULL,
  "RenewalPromptDate" date NOT NULL,
  "RenewalDate"       date NOT NULL,
  "NewOfficerID"      integer REFERENCES "tblOfficer"("OfficerID") DEFERRABLE INITIALLY DEFERRED,
  "PhoneNumber"       varchar(25),
  "SMSStatus"         smallint NOT NULL,
  "InsureeID"         integer NOT NULL REFERENCES "tblInsuree"("InsureeID") DEFERRABLE INITIALLY DEFERRED,
  "PolicyID"          integer NOT NULL REFERENCES "tblPolicy"("PolicyID") DEFERRABLE INITIALLY DEFERRED,
  "NewProdID"         integer NOT NULL REFERENCES "tblProduct"("ProdID") DEFERRABLE INITIALLY DEFERRED,
  "RenewalWarnings"   smallint,
  "ValidityFrom"      timestamptz NOT NULL,
  "ValidityTo"        timestamptz,
  "LegacyID"          integer,
  "AuditCreateUser"   integer,
  "ResponseStatus"    integer,
  "ResponseDate"      timestamptz
);

CREATE TABLE "tblClaim" (
  "ClaimID"       serial PRIMARY KEY,
  "ClaimUUID"     varchar(36) NOT NULL UNIQUE,
  "ClaimCode"     varchar(50) NOT NULL,                 -- 8 in dump; dj claim 0020 -> 50
  "InsureeID"     integer NOT NULL REFERENCES "tblInsuree"("InsureeID") DEFERRABLE INITIALLY DEFERRED,
  "HFID"          integer NOT NULL REFERENCES "tblHF"("HfID") DEFERRABLE INITIALLY DEFERRED,
  "ICDID"         integer NOT NULL,
  "ClaimCategory" varchar(1),
  "DateFrom"      date NOT NULL,
  "DateTo"        date,
  "DateClaimed"   date NOT NULL,
  "DateProcessed" date,
  "ClaimStatus"   smallint NOT NULL,                    -- 1,2,4,8,16
  "Claimed"       numeric(18,2),
  "Approved"      numeric(18,2),
  "Valuated"      numeric(18,2),
  "Remunerated"   numeric(18,2),
  "Explanation"   text,
  "Adjustment"    text,
  "RejectionReason" smallint,
  "Feedback"      boolean NOT NULL,
  "FeedbackStatus" smallint,
  "ReviewStatus"  smallint,
  "VisitType"     varchar(1),
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL
);

CREATE TABLE "tblClaimDedRem" (
  "ExpenditureID" serial PRIMARY KEY,
  "PolicyID"      integer,
  "InsureeID"     integer,
  "ClaimID"       integer NOT NULL,
  "DedG" numeric(18,2), "DedOP" numeric(18,2), "DedIP" numeric(18,2),
  "RemG" numeric(18,2), "RemOP" numeric(18,2), "RemIP" numeric(18,2),
  "ValidityFrom"  timestamptz NOT NULL,
  "ValidityTo"    timestamptz,
  "LegacyID"      integer,
  "AuditUserID"   integer NOT NULL
);

-- as in [PG] 00_dump.sql: columns UNQUOTED there, so PostgreSQL folds them to lower case
CREATE TABLE "tblFamilySMS" (
  FamilyID      int NOT NULL,
  ApprovalOfSMS boolean,
  LanguageOfSMS varchar(5),
  ValidityFrom  timestamptz NOT NULL,
  ValidityTo    timestamptz,
  CONSTRAINT UC_FamilySMS UNIQUE (FamilyID, ValidityTo)
);

CREATE TABLE "tblIMISDefaults" (
  "DefaultID"             integer NOT NULL,
  "PolicyRenewalInterval" integer,
  "OfflineCHF"            integer,
  "ActivationOption"      smallint DEFAULT 2 NOT NULL,
  "BypassReviewClaim"     boolean DEFAULT true NOT NULL
);

-- Base data of the dump that the gateway reads.
INSERT INTO "tblIMISDefaults" ("DefaultID", "PolicyRenewalInterval", "ActivationOption", "BypassReviewClaim")
VALUES (1, 14, 2, true);
