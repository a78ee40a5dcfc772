// Process-wide test setup only. Imports nothing from src/.
process.env.TZ = 'UTC'
