-- Keep each order operation's copy of its order's state, priority and due date current.
CREATE TRIGGER orders_dispatch_fields AFTER UPDATE OF state, priority, due_at ON orders
BEGIN
  UPDATE order_operations SET order_state = NEW.state, order_priority = NEW.priority, order_due_key = COALESCE(NEW.due_at, '9999')
  WHERE order_id = NEW.id;
END;
--> statement-breakpoint
UPDATE order_operations SET
  order_state = (SELECT state FROM orders WHERE orders.id = order_operations.order_id),
  order_priority = (SELECT priority FROM orders WHERE orders.id = order_operations.order_id),
  order_due_key = (SELECT COALESCE(due_at, '9999') FROM orders WHERE orders.id = order_operations.order_id);
