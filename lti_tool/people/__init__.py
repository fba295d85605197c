"""Districts (the tenants), their schools, and the local identity of each platform user."""
