CREATE INDEX "groups_tenant_id_idx" ON "groups" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "users_tenant_id_idx" ON "users" USING btree ("tenant_id","id");