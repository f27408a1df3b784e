//! Wire types of the kiosk API (`/v1`), shared by the client and the server.
