# Technicians' maintenance mode.

maintenance-login-title = 技術人員登入
maintenance-login-hint = 如有服務卡請先插卡，然後輸入密碼
maintenance-error-denied = 密碼不正確，還可嘗試 { $tries } 次
maintenance-error-locked = 錯誤次數過多，已暫時鎖定，請稍後再試
maintenance-error-card = 無法讀取服務卡，請重新插卡
checking-technician-title = 正在核驗
checking-technician-hint = 請稍候
maintenance-title = 維護模式
maintenance-hello = 技術人員：{ $name }
maintenance-run-selftest = 設備自檢
maintenance-run-selftest-hint = 讀卡機、印表機、網路、時鐘、磁碟、待傳送佇列
maintenance-display-test = 螢幕檢測
maintenance-display-test-hint = 色條與觸控網格
maintenance-exit = 退出維護模式
running-selftest-title = 正在自檢
running-selftest-hint = 檢查各項設備，約需數秒
selftest-title = 自檢報告
selftest-hint = 結果已隨下一次心跳回報
selftest-pass = 正常
selftest-warn = 注意
selftest-fail = 故障
selftest-again = 再次自檢
display-test-title = 螢幕檢測
display-test-hint = 檢查色條顏色，逐一點擊每個格子
display-test-fail = 有問題
display-test-pass = 正常（還剩 { $left } 格）
