ALTER TABLE "events" DROP CONSTRAINT "events_gateway_id_gateways_id_fk";
